"""Built-in model families. Each module registers a full-size and a `-tiny` variant."""
