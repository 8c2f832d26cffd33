"""The web dashboard served by `vicx serve` at `/`: pages over the API's own batch functions."""
