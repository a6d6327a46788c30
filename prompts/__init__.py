"""Prompt templates, one file each, in our own words.

Templates use `{{ name }}` slots; `webdreamer.prompting.render` fills them and refuses unknown or
missing names, so a typo in a template fails loudly instead of sending a broken prompt.
"""
