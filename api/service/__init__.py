"""The HTTP service: FastAPI app, storage, batch jobs and auth around the one ``nlp.Analyzer``."""
