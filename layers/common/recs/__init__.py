"""Personalized product recommendations: the shared package of every function."""

__version__ = "0.1.0"
