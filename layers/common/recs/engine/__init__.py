"""Numerical model engine: ALS, EASE, popularity, top-K and item similarity.

Pure numpy/scipy; no AWS or cache clients here, so the training code runs the same in
a Lambda, a container or a laptop.
"""

from recs.engine.als import AlternatingLeastSquares
from recs.engine.base import MatrixFactorizationBase, NotFittedError, Recommender, load_model
from recs.engine.ease import EASE
from recs.engine.neighbours import UserKNN
from recs.engine.popularity import Popularity

__all__ = [
    "EASE",
    "AlternatingLeastSquares",
    "MatrixFactorizationBase",
    "NotFittedError",
    "Popularity",
    "Recommender",
    "UserKNN",
    "load_model",
]
