"""HTTP routes, one module per resource; ``create_app`` includes each module's ``router``."""
