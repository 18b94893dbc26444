"""What plugs into Rasa: the tracker and lock stores named in endpoints.yml, the NLU
components named in config.yml (nlu/), and the changes to how Rasa calls the action
server that our tracker store installs (action_calls.py, action_session.py)."""
