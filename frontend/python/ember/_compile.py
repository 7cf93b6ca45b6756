def compile(fn): raise NotImplementedError("ember.compile comes next")
