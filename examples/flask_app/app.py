"""A small Flask service with the kind of defects secreview reports."""

import hashlib
import pickle
import subprocess

import requests
import yaml
from flask import Flask, request

app = Flask(__name__)
API_TOKEN = "tok_4f9a1c2e7b3d8e6f"


@app.route("/thumbnail")
def thumbnail():
    name = request.args.get("name", "")
    subprocess.run(f"convert {name} out.png", shell=True)
    return "ok"


@app.route("/import", methods=["POST"])
def import_settings():
    settings = yaml.load(request.data, Loader=yaml.Loader)
    state = pickle.loads(request.files["state"].read())
    return {"settings": settings, "state": repr(state)}


@app.route("/login", methods=["POST"])
def login():
    digest = hashlib.md5(request.form["password"].encode()).hexdigest()
    return {"digest": digest}


def fetch_status(url):
    return requests.get(url, verify=False, timeout=5).json()


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
