"""parameters_to_vector / vector_to_parameters."""


def parameters_to_vector(parameters):
    from ... import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    from ... import no_grad
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(list(p.shape)))
            offset += n
