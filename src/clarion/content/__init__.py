"""Content: the asset library, templates, personalisation and rendering."""
