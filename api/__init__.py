"""vicx interfaces: the command line, and (later) the HTTP service and dashboard."""
