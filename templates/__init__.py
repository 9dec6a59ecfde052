"""Jinja2 templates, shipped inside the fedinet package as fedinet.templates."""
