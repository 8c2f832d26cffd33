"""Training: turning corpora and the team's labelled comments into model bundles."""
