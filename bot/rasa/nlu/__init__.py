"""The NLU components of config.yml's pipeline (Rasa graph components)."""
