"""ember.linalg (vector norms so far)."""
from ._pointwise import vector_norm

__all__ = ["vector_norm"]
