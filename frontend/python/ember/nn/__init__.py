"""ember.nn: modules with PyTorch's API (subclass ember.nn.Module as in PyTorch), init, utils,
and the functional API."""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from .parameter import Parameter, Buffer  # noqa: F401
from .modules.module import Module  # noqa: F401
from .modules.container import (Sequential, ModuleList, ModuleDict, ParameterList,  # noqa: F401
                                ParameterDict)
from .modules.layers import (Identity, Linear, Conv1d, Conv2d, ConvTranspose1d,  # noqa: F401
                             ConvTranspose2d, MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d,
                             AdaptiveAvgPool1d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d,
                             LayerNorm, GroupNorm, Dropout, Embedding, Flatten, Unflatten)
from .modules.activation import (ReLU, ReLU6, SiLU, Mish, SELU, Hardsigmoid,  # noqa: F401
                                 Hardswish, Tanh, Sigmoid, LogSigmoid, Softsign, Tanhshrink,
                                 GELU, LeakyReLU, ELU, CELU, Hardtanh, Softplus, PReLU, Softmax,
                                 LogSoftmax, Softmin, L1Loss, MSELoss, SmoothL1Loss, HuberLoss,
                                 KLDivLoss, BCELoss, BCEWithLogitsLoss, NLLLoss,
                                 CrossEntropyLoss, MarginRankingLoss, HingeEmbeddingLoss,
                                 SoftMarginLoss, MultiLabelSoftMarginLoss, CosineEmbeddingLoss,
                                 TripletMarginLoss, TripletMarginWithDistanceLoss, PoissonNLLLoss,
                                 GaussianNLLLoss, MultiMarginLoss, MultiLabelMarginLoss,
                                 PairwiseDistance, CosineSimilarity)
from .modules.transformer import (MultiheadAttention, TransformerEncoderLayer,  # noqa: F401
                                  TransformerEncoder)
from . import utils  # noqa: F401
from .modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell  # noqa: F401,E402
from .modules.transformer import TransformerDecoderLayer, TransformerDecoder  # noqa: F401,E402
