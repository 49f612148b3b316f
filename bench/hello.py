"""The baseline: the smallest Flask app, served by the same gunicorn as the site."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
