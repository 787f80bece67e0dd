"""Composition root: settings, services, the Textual App, the camera and the command line."""
