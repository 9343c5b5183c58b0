"""Numerical model engine: ALS, EASE, popularity, top-K and item similarity.

Pure numpy/scipy; no AWS or cache clients here, so the training code runs the same in
a Lambda, a container or a laptop.
"""

from recs.model.als import AlternatingLeastSquares
from recs.model.base import MatrixFactorizationBase, NotFittedError, Recommender, load_model
from recs.model.ease import EASE
from recs.model.neighbours import UserKNN
from recs.model.popularity import Popularity

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
