"""RNN, LSTM, GRU (multi-layer, bidirectional, batch_first) and their cells, with PyTorch's
parameter names, gate order (LSTM: i, f, g, o; GRU: r, z, n), initialisation and layouts.
Composed from ember ops: the input projection of a whole sequence is one matmul per layer and
direction, then one small matmul per time step."""
import math

from ... import _C
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .layers import _empty

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell(mode, x_proj, h, c, w_hh, b_hh):
    """One time step: x_proj = x W_ih^T + b_ih (precomputed); returns (h', c')."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "RNN_TANH":
        return _C.tanh(x_proj + gh), None
    if mode == "RNN_RELU":
        return F.relu(x_proj + gh), None
    H = h.shape[-1]
    if mode == "LSTM":
        g = x_proj + gh
        i = _C.sigmoid(g[..., 0:H])
        f = _C.sigmoid(g[..., H:2 * H])
        gg = _C.tanh(g[..., 2 * H:3 * H])
        o = _C.sigmoid(g[..., 3 * H:4 * H])
        c2 = f * c + i * gg
        return o * _C.tanh(c2), c2
    r = _C.sigmoid(x_proj[..., 0:H] + gh[..., 0:H])
    z = _C.sigmoid(x_proj[..., H:2 * H] + gh[..., H:2 * H])
    n = _C.tanh(x_proj[..., 2 * H:3 * H] + r * gh[..., 2 * H:3 * H])
    return (1 - z) * n + z * h, None


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be a positive integer")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than or equal to 1")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not supported yet")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        num_dir = 2 if bidirectional else 1
        gate = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        kw = dict(dtype=dtype, device=device)
        for layer in range(num_layers):
            for d in range(num_dir):
                in_size = input_size if layer == 0 else hidden_size * num_dir
                sfx = "_reverse" if d == 1 else ""
                names = [f"weight_ih_l{layer}{sfx}", f"weight_hh_l{layer}{sfx}"]
                setattr(self, names[0], Parameter(_empty(gate, in_size, **kw)))
                setattr(self, names[1], Parameter(_empty(gate, hidden_size, **kw)))
                if bias:
                    names += [f"bias_ih_l{layer}{sfx}", f"bias_hh_l{layer}{sfx}"]
                    setattr(self, names[2], Parameter(_empty(gate, **kw)))
                    setattr(self, names[3], Parameter(_empty(gate, **kw)))
                self._flat_weights_names += names
        self.reset_parameters()

    @property
    def all_weights(self):
        n = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, w) for w in names[i:i + n]] for i in range(0, len(names), n)]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _run(self, input, hx, cx):
        """input (L, N, in); hx, cx (layers * dirs, N, H) → output, h_n, c_n."""
        from ... import stack, zeros
        num_dir = 2 if self.bidirectional else 1
        L, N = input.shape[0], input.shape[1]
        H = self.hidden_size
        lstm = self.mode == "LSTM"
        if hx is None:
            hx = zeros(self.num_layers * num_dir, N, H, dtype=input.dtype, device=input.device)
        if lstm and cx is None:
            cx = zeros(self.num_layers * num_dir, N, H, dtype=input.dtype, device=input.device)
        h_n, c_n = [], []
        layer_in = input
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_dir):
                sfx = "_reverse" if d == 1 else ""
                w_ih = getattr(self, f"weight_ih_l{layer}{sfx}")
                w_hh = getattr(self, f"weight_hh_l{layer}{sfx}")
                b_ih = getattr(self, f"bias_ih_l{layer}{sfx}") if self.bias else None
                b_hh = getattr(self, f"bias_hh_l{layer}{sfx}") if self.bias else None
                proj = F.linear(layer_in, w_ih, b_ih)  # (L, N, G): every step at once
                k = layer * num_dir + d
                h, c = hx[k], (cx[k] if lstm else None)
                steps = [None] * L
                order = range(L - 1, -1, -1) if d == 1 else range(L)
                for t in order:
                    h, c = _cell(self.mode, proj[t], h, c, w_hh, b_hh)
                    steps[t] = h
                outs.append(stack(steps, 0) if L else zeros(0, N, H, dtype=input.dtype))
                h_n.append(h)
                if lstm:
                    c_n.append(c)
            layer_in = outs[0] if num_dir == 1 else _C.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        return layer_in, stack(h_n, 0), (stack(c_n, 0) if lstm else None)

    def forward(self, input, hx=None):
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        batched = input.dim() == 3
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        lstm = self.mode == "LSTM"
        h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
        if not batched:
            input = input.unsqueeze(1)
            h0 = h0.unsqueeze(1) if h0 is not None else None
            c0 = c0.unsqueeze(1) if c0 is not None else None
        elif self.batch_first:
            input = input.transpose(0, 1)
        num_dir = 2 if self.bidirectional else 1
        expected = (self.num_layers * num_dir, input.shape[1], self.hidden_size)
        for name, t in (("hidden", h0), ("cell", c0)):
            if t is not None and tuple(t.shape) != expected:
                raise RuntimeError(f"Expected {name} size {expected}, got {tuple(t.shape)}")
        out, h_n, c_n = self._run(input, h0, c0)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.__dict__["nonlinearity"] = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; forward returns output, (h_n, c_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    _mode = "RNN_TANH"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate = _GATES[self._mode] * hidden_size
        kw = dict(dtype=dtype, device=device)
        self.weight_ih = Parameter(_empty(gate, input_size, **kw))
        self.weight_hh = Parameter(_empty(gate, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(_empty(gate, **kw))
            self.bias_hh = Parameter(_empty(gate, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        stdv = 1.0 / math.sqrt(hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s

    def _step(self, input, h, c):
        from ... import zeros
        batched = input.dim() == 2
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        if not batched:
            input = input.unsqueeze(0)
        shape = (input.shape[0], self.hidden_size)
        h = zeros(*shape, dtype=input.dtype, device=input.device) if h is None else (
            h if batched else h.unsqueeze(0))
        if self._mode == "LSTM":
            c = zeros(*shape, dtype=input.dtype, device=input.device) if c is None else (
                c if batched else c.unsqueeze(0))
        h2, c2 = _cell(self._mode, F.linear(input, self.weight_ih, self.bias_ih), h, c,
                       self.weight_hh, self.bias_hh)
        if not batched:
            h2 = h2.squeeze(0)
            c2 = c2.squeeze(0) if c2 is not None else None
        return h2, c2


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


class LSTMCell(RNNCellBase):
    _mode = "LSTM"

    def forward(self, input, hx=None):
        h, c = hx if hx is not None else (None, None)
        return self._step(input, h, c)


class GRUCell(RNNCellBase):
    _mode = "GRU"

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]
