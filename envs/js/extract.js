// Walks one frame's composed DOM (open shadow roots and slots included) and returns a flat,
// depth-annotated list of nodes for the text observation, as a JSON string.
//
// Element ids live in a WeakMap on the window, never in DOM attributes: the page (and any
// evaluator that reads page.content()) sees no trace of us, and an id stays with its node for
// as long as the document lives. The caller passes the first free id (ids are unique per tab,
// across frames) and gets back the next free one.
(args) => {
  const KEY = "__webdreamer_ids__";
  let store = window[KEY];
  if (!store) {
    store = { ids: new WeakMap(), byId: new Map() };
    Object.defineProperty(window, KEY, { value: store, enumerable: false });
  }
  let next = args.start;
  const maxName = args.maxName || 200;
  const maxText = args.maxText || 600;
  const maxOptions = args.maxOptions || 40;
  const includeUrls = !!args.includeUrls;
  const vw = window.innerWidth, vh = window.innerHeight;

  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "TITLE", "BASE", "svg"]);
  const NAME_FROM_CONTENT = new Set([
    "button", "link", "heading", "option", "tab", "menuitem",
    "menuitemcheckbox", "menuitemradio", "treeitem", "tooltip", "switch", "checkbox", "radio", "label",
  ]);
  const INTERACTIVE_ROLES = new Set([
    "button", "link", "checkbox", "radio", "switch", "tab", "menuitem", "menuitemcheckbox",
    "menuitemradio", "option", "combobox", "textbox", "searchbox", "slider", "spinbutton", "treeitem",
    "listbox", "gridcell",
  ]);
  // Roles that get a line of their own even when they are not interactive.
  const STRUCTURAL = new Set([
    "heading", "img", "navigation", "main", "banner", "contentinfo", "complementary", "search",
    "form", "region", "dialog", "alertdialog", "alert", "status", "table", "article", "Iframe", "progressbar", "meter", "separator", "figure", "tablist", "tabpanel",
    "menu", "menubar", "listbox", "radiogroup", "group", "toolbar", "tree", "grid", "LabelText",
  ]);
  // Landmarks that say little without a name.
  const NEEDS_NAME = new Set([
    "form", "region", "group", "figure", "article", "separator", "LabelText", "banner", "contentinfo",
    "navigation", "complementary", "main", "search",
  ]);

  const INPUT_ROLES = {
    button: "button", submit: "button", reset: "button", image: "button", checkbox: "checkbox",
    radio: "radio", range: "slider", number: "spinbutton", search: "searchbox", email: "textbox",
    tel: "textbox", text: "textbox", url: "textbox", password: "textbox", date: "textbox",
    "datetime-local": "textbox", month: "textbox", time: "textbox", week: "textbox", color: "button",
    file: "button",
  };

  // Tag-based inline test: getComputedStyle on every node costs more than the rest of the walk.
  const INLINE = new Set([
    "A", "ABBR", "B", "BDI", "BDO", "CITE", "CODE", "DATA", "DFN", "EM", "FONT", "I", "KBD", "LABEL", "MARK",
    "Q", "S", "SAMP", "SMALL", "SPAN", "STRONG", "SUB", "SUP", "TIME", "U", "VAR", "IMG", "BR", "WBR",
  ]);
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim();
  const cut = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

  function idOf(el) {
    let id = store.ids.get(el);
    if (id === undefined) {
      id = next++;
      store.ids.set(el, id);
      store.byId.set(id, new WeakRef(el));
    }
    return id;
  }

  function implicitRole(el, tag) {
    switch (tag) {
      case "A": case "AREA": return el.hasAttribute("href") ? "link" : "";
      case "BUTTON": return "button";
      case "INPUT": {
        const t = (el.getAttribute("type") || "text").toLowerCase();
        if (t === "hidden") return "";
        if ((t === "text" || t === "search" || t === "email" || t === "tel" || t === "url") && el.hasAttribute("list")) return "combobox";
        return INPUT_ROLES[t] || "textbox";
      }
      case "SELECT": return (el.multiple || el.size > 1) ? "listbox" : "combobox";
      case "TEXTAREA": return "textbox";
      case "IMG": return el.getAttribute("alt") === "" ? "" : "img";
      case "H1": case "H2": case "H3": case "H4": case "H5": case "H6": return "heading";
      case "NAV": return "navigation";
      case "MAIN": return "main";
      case "HEADER": return el.closest("article,aside,main,nav,section") ? "" : "banner";
      case "FOOTER": return el.closest("article,aside,main,nav,section") ? "" : "contentinfo";
      case "ASIDE": return "complementary";
      case "FORM": return "form";
      case "SECTION": return "region";
      case "ARTICLE": return "article";
      case "DIALOG": return "dialog";
      case "TABLE": return "table";
      case "TH": return el.getAttribute("scope") === "row" ? "rowheader" : "columnheader";
      case "TD": return "cell";
      case "OPTION": return "option";
      case "SUMMARY": return "button";
      case "FIELDSET": return "group";
      case "FIGURE": return "figure";
      case "PROGRESS": return "progressbar";
      case "METER": return "meter";
      case "HR": return "separator";
      case "IFRAME": case "FRAME": return "Iframe";
      case "LABEL": return "LabelText";
      case "SEARCH": return "search";
      default: return "";
    }
  }

  function hidden(el) {
    return el.getAttribute("aria-hidden") === "true";
  }

  // <slot> and other `display: contents` elements have no box, so checkVisibility() is false for
  // them although their content shows. Only asked when checkVisibility() said no, so it is cheap.
  function boxless(el) {
    return getComputedStyle(el).display === "contents";
  }

  // Visible text of a subtree, with image alternatives, as accessible names are computed.
  function textOf(node, budget) {
    let out = "";
    const visit = (n) => {
      if (out.length > budget) return;
      if (n.nodeType === 3) { out += n.nodeValue; return; }
      if (n.nodeType !== 1) return;
      const tag = n.tagName;
      if (SKIP.has(tag) || hidden(n)) return;
      if (!n.checkVisibility() && !boxless(n)) return;
      if (tag === "IMG") { out += " " + (n.getAttribute("alt") || "") + " "; return; }
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      const label = n.getAttribute("aria-label");
      if (label) { out += " " + label + " "; return; }
      const kids = n.shadowRoot ? n.shadowRoot.childNodes : (tag === "SLOT" ? n.assignedNodes({ flatten: true }) : n.childNodes);
      for (const c of kids) visit(c);
      if (!INLINE.has(tag)) out += " ";
    };
    visit(node);
    return clean(out);
  }

  function byIds(el, attr) {
    const root = el.getRootNode();
    const ids = (el.getAttribute(attr) || "").split(/\s+/).filter(Boolean);
    return clean(ids.map((i) => { const t = root.getElementById ? root.getElementById(i) : document.getElementById(i); return t ? textOf(t, maxName) : ""; }).join(" "));
  }

  function labelText(el) {
    const parts = [];
    if (el.labels) for (const l of el.labels) parts.push(textOf(l, maxName));
    return clean(parts.join(" "));
  }

  function nameOf(el, tag, role) {
    if (el.hasAttribute("aria-labelledby")) { const n = byIds(el, "aria-labelledby"); if (n) return n; }
    const aria = clean(el.getAttribute("aria-label"));
    if (aria) return aria;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
      const t = (el.getAttribute("type") || "").toLowerCase();
      if (t === "submit" || t === "button" || t === "reset") return clean(el.value) || (t === "submit" ? "Submit" : t === "reset" ? "Reset" : "");
      if (t === "image") return clean(el.getAttribute("alt")) || clean(el.value);
      const lab = labelText(el);
      if (lab) return lab;
      return clean(el.getAttribute("placeholder")) || clean(el.getAttribute("title"));
    }
    if (tag === "IMG" || tag === "AREA") return clean(el.getAttribute("alt")) || clean(el.getAttribute("title"));
    if (tag === "IFRAME" || tag === "FRAME") return clean(el.getAttribute("title")) || clean(el.getAttribute("name"));
    if (tag === "FIELDSET") { const lg = el.querySelector(":scope > legend"); if (lg) return textOf(lg, maxName); }
    if (tag === "TABLE") { const cap = el.querySelector(":scope > caption"); if (cap) return textOf(cap, maxName); }
    if (tag === "FIGURE") { const fc = el.querySelector(":scope > figcaption"); if (fc) return textOf(fc, maxName); }
    if (NAME_FROM_CONTENT.has(role)) { const n = textOf(el, maxName); if (n) return n; }
    return clean(el.getAttribute("title"));
  }

  function isInteractive(el, tag, role) {
    if (INTERACTIVE_ROLES.has(role)) return true;
    if (tag === "A" && el.hasAttribute("href")) return true;
    if (tag === "BUTTON" || tag === "SELECT" || tag === "TEXTAREA" || tag === "SUMMARY") return true;
    if (tag === "INPUT") return (el.getAttribute("type") || "").toLowerCase() !== "hidden";
    if (el.isContentEditable && (!el.parentElement || !el.parentElement.isContentEditable)) return true;
    const ti = el.getAttribute("tabindex");
    if (ti !== null && parseInt(ti, 10) >= 0) return true;
    if (el.hasAttribute("onclick")) return true;
    // An <a> without href that is made to look clickable has a script click handler (Chromium
    // exposes such anchors as links, from their listeners, which page scripts cannot see).
    return tag === "A" && getComputedStyle(el).cursor === "pointer";
  }

  function propsOf(el, tag, role) {
    const p = {};
    if (role === "checkbox" || role === "radio" || role === "switch" || role === "menuitemcheckbox" || role === "menuitemradio") {
      const a = el.getAttribute("aria-checked");
      p.checked = a !== null ? a : String(!!el.checked);
    }
    const exp = el.getAttribute("aria-expanded");
    if (exp !== null) p.expanded = exp;
    if (tag === "DETAILS" || (tag === "SUMMARY" && el.parentElement && el.parentElement.tagName === "DETAILS")) {
      p.expanded = String(!!(tag === "DETAILS" ? el.open : el.parentElement.open));
    }
    const pressed = el.getAttribute("aria-pressed");
    if (pressed !== null) p.pressed = pressed;
    if (el.disabled || el.getAttribute("aria-disabled") === "true") p.disabled = "true";
    if (el.required || el.getAttribute("aria-required") === "true") p.required = "true";
    if (el.getAttribute("aria-selected") === "true") p.selected = "true";
    if (el.getAttribute("aria-current") && el.getAttribute("aria-current") !== "false") p.current = el.getAttribute("aria-current");
    if (role === "heading") { const m = /^H(\d)$/.exec(tag); p.level = m ? m[1] : (el.getAttribute("aria-level") || "2"); }
    if (tag === "INPUT" || tag === "TEXTAREA") {
      const t = (el.getAttribute("type") || "").toLowerCase();
      if (!(t in { checkbox: 1, radio: 1, submit: 1, button: 1, reset: 1, image: 1, file: 1 })) {
        const v = el.value || "";
        if (v) p.value = t === "password" ? "•".repeat(Math.min(v.length, 8)) : cut(clean(v), maxName);
        const ph = clean(el.getAttribute("placeholder"));
        if (ph && !v) p.placeholder = cut(ph, 80);
      }
    } else if (tag === "SELECT") {
      const sel = Array.from(el.selectedOptions || []).map((o) => clean(o.textContent));
      p.value = sel.join(", ");
    } else if (el.isContentEditable) {
      p.value = cut(clean(el.innerText), maxName);
    }
    if (includeUrls && tag === "A" && el.href) p.url = el.href;
    return p;
  }

  const nodes = [];

  // Text lines take the box of the element that holds them (one rect per line, not per node).
  function emitText(text, depth, holder) {
    const t = clean(text);
    if (t) nodes.push({ i: null, d: depth, r: "StaticText", n: cut(t, maxText), b: boxOf(holder) });
  }

  function boxOf(el) {
    const r = el.getBoundingClientRect();
    return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
  }

  // Returns true if anything with an id was emitted below (callers use it to merge text runs).
  // parentPointer: the parent shows a pointer cursor; inInteractive: inside an element with an id
  // for interaction. Both serve the cursor rule below.
  function walk(el, depth, inNamed, parentBox, parentPointer, inInteractive) {
    const tag = el.tagName;
    if (SKIP.has(tag) || hidden(el)) return;
    let shown;
    if (el.checkVisibility()) shown = el.checkVisibility({ visibilityProperty: true });
    else if (boxless(el)) shown = getComputedStyle(el).visibility === "visible";
    else return;  // display:none / content-visibility: the subtree is gone
    const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
    let role = explicit && explicit !== "none" && explicit !== "presentation" ? explicit : (explicit ? "" : implicitRole(el, tag));
    if (el.isContentEditable && !role && (!el.parentElement || !el.parentElement.isContentEditable)) role = "textbox";
    let interactive = shown && isInteractive(el, tag, role);
    // Script-driven controls (a <span> or <div> with a click handler and no role) show a pointer
    // cursor where the clickable area starts: such an element gets an id too. If it turns out to
    // hold real controls (a menu row around its menuitem), it is dropped again after its children.
    const pointer = shown && getComputedStyle(el).cursor === "pointer";
    const byCursor = !interactive && pointer && !parentPointer && !inInteractive && tag !== "LABEL" &&
      tag !== "BODY" && tag !== "HTML" && !role;
    if (byCursor) interactive = true;
    if (interactive && !role) role = tag === "A" ? "link" : "generic";
    let emit = false, name = "";
    if (shown && (interactive || STRUCTURAL.has(role)) && !(inNamed && !interactive)) {
      name = nameOf(el, tag, role);
      if (!name && interactive && !NAME_FROM_CONTENT.has(role) && tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA") {
        // A clickable <div>: short text is its name; a big container keeps its content as lines.
        const t = textOf(el, maxName);
        if (t.length <= 100) name = t;
      }
      emit = interactive || !NEEDS_NAME.has(role) || !!name;
      if (role === "LabelText") emit = false;  // the control carries the label as its name
    }
    let depthBelow = depth;
    const box = emit ? boxOf(el) : parentBox;
    const recAt = nodes.length;
    if (emit) {
      const rec = { i: idOf(el), d: depth, r: role, n: cut(name, maxName), t: tag, p: propsOf(el, tag, role), b: box, x: interactive ? 1 : 0 };
      if (byCursor) rec.p.clickable = "true";
      if (tag === "IFRAME" || tag === "FRAME") rec.fr = 1;
      nodes.push(rec);
      depthBelow = depth + 1;
      if (tag === "SELECT") {
        let k = 0;
        for (const o of el.options) {
          if (k++ >= maxOptions) { nodes.push({ i: null, d: depthBelow, r: "StaticText", n: `… ${el.options.length - maxOptions} more options`, b: box }); break; }
          const op = { i: null, d: depthBelow, r: "option", n: cut(clean(o.textContent), maxName), p: {}, b: box };
          if (o.selected) op.p.selected = "true";
          nodes.push(op);
        }
        return;
      }
      if (tag === "IFRAME" || tag === "FRAME" || tag === "TEXTAREA" || tag === "INPUT") return;
    }
    // Text already carried by a name (a link's text, a label's control) is not repeated below it.
    const named = inNamed || (emit && !!name && !byCursor && (NAME_FROM_CONTENT.has(role) || interactive)) ||
      (tag === "LABEL" && !!el.control);
    const below = inInteractive || (emit && interactive);
    const kids = el.shadowRoot ? el.shadowRoot.childNodes : (tag === "SLOT" ? el.assignedNodes({ flatten: true }) : el.childNodes);
    // Merge runs of inline text so "Price: <b>$7.49</b> today" becomes one line.
    const start = nodes.length;
    let run = "";
    const flush = () => { if (run) { if (!named && shown) emitText(run, depthBelow, el); run = ""; } };
    for (const c of kids) {
      if (c.nodeType === 3) { run += c.nodeValue; continue; }
      if (c.nodeType !== 1) continue;
      const before = nodes.length;
      const mark = run;
      walk(c, depthBelow, named, box, pointer, below);
      if (nodes.length === before) continue;
      const added = nodes.slice(before);
      if (INLINE.has(c.tagName) && added.every((n) => n.r === "StaticText")) {
        // Plain inline text joins the running line.
        nodes.length = before;
        run = mark + " " + added.map((n) => n.n).join(" ") + " ";
        continue;
      }
      // A block or something with ids: the run so far becomes its own line, before the child.
      if (mark.trim()) {
        const saved = nodes.splice(before);
        run = mark;
        flush();
        for (const n of saved) nodes.push(n);
      }
      run = "";
    }
    flush();
    if (byCursor && emit && nodes.slice(recAt + 1).some((n) => n.x)) {
      nodes.splice(recAt, 1);  // a pointer row around real controls: the controls are enough
      for (let k = recAt; k < nodes.length; k++) nodes[k].d -= 1;
    }
    // A plain container whose whole content is text collapses into a single line.
    if (!emit && nodes.length - start > 1 && nodes.slice(start).every((n) => n.r === "StaticText" && n.d === depthBelow)) {
      const merged = nodes.slice(start).map((n) => n.n).join(tag === "TR" ? " | " : " ");
      if (merged.length <= maxText) { nodes.length = start; emitText(merged, depthBelow, el); }
    }
  }

  // The deepest focused element, through shadow roots (frames are handled by the caller).
  function focusedId() {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    if (!a || a === document.body || a === document.documentElement) return null;
    return store.ids.get(a) ?? null;
  }

  const root = document.body || document.documentElement;
  if (root) walk(root, 0, false, [0, 0, vw, vh], false, false);
  // One JSON string: Playwright's own serialization of a big object graph (and its parsing on
  // the Python side) costs ~10x the walk itself on large pages (1.2 s vs 0.15 s for 5,000 nodes).
  return JSON.stringify({
    nodes,
    next,
    focused: focusedId(),
    viewport: [vw, vh],
    scroll: [Math.round(window.scrollX), Math.round(window.scrollY)],
    page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
  });
}
