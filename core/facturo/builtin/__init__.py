"""Built-in default plugins, registered trylast so any plugin can replace them."""
