"""A plugin module whose body fails: loading it must be one clear error."""
raise RuntimeError("this plugin is broken")
