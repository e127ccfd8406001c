"""The web layer: a Starlette app with four sections (client, admin, api, public)."""
