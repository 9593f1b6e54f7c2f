"""Anchor (C): Flask with flask-jwt-extended reading the access token from a cookie."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify
from flask_jwt_extended import JWTManager, create_access_token, current_user, jwt_required, set_access_cookies

from bench.anchors import USER_ID

USERS = {USER_ID: {"id": USER_ID}}

app = Flask(__name__)
app.config.update(
    JWT_SECRET_KEY=os.environ["BENCH_JWT_SECRET"],
    JWT_TOKEN_LOCATION=["cookies"],
    # The benchmark uses plain HTTP on loopback, and Secure only changes what a browser would send.
    JWT_COOKIE_SECURE=False,
)
jwt = JWTManager(app)


@jwt.user_lookup_loader
def load_user(jwt_header: dict, jwt_data: dict) -> dict[str, str] | None:
    return USERS.get(jwt_data["sub"])


@app.post("/login")
def login() -> Response:
    response = jsonify(user_id=USER_ID)
    set_access_cookies(response, create_access_token(identity=USER_ID))
    return response


@app.get("/hello")
@jwt_required()
def hello() -> Response:
    return jsonify(user_id=current_user["id"])
