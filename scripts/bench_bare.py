"""The bare Flask route the load benchmark measures beside the product (same server, same
workers): the ceiling any page of ours is compared to."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def bare():
    return "ok"
