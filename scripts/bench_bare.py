"""The bare Flask route the load benchmark measures beside the product (same server, same
workers): the ceiling any page of ours is compared to."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def bare():
    return "ok"


@app.post("/json")
def bare_json():
    """A JSON body parsed and answered: what the API benchmark compares its intake with."""
    from flask import jsonify, request
    return jsonify({"received": request.get_json()}), 201
