"""Built-in handlers, one module per scheme; imported lazily by the registry."""
