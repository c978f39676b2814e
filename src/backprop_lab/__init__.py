"""Backprop Lab: a desktop simulator of the calculus of backpropagation."""

__version__ = "0.1.0"
