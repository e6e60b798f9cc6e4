"""`routegen studio`: a local web app to generate, grade, edit, complete, save and share MoonBoard routes.

app.py builds the FastAPI app (JSON API + the static front end in static/, no build step, nothing from a CDN);
service.py loads the models and runs inference in a bounded pool; library.py is the SQLite route library;
nearest.py finds the nearest real problem; share.py and bluetooth.py are the URL and LED encodings the front
end mirrors in static/codec.js.
"""
