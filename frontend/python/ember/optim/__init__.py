"""ember.optim: optimizers and learning-rate schedulers with PyTorch's API and update math."""
from .optimizer import Optimizer  # noqa: F401
from .algorithms import (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam, Adamax,  # noqa: F401
                         Adadelta)
from . import lr_scheduler  # noqa: F401
