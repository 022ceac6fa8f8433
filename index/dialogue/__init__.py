"""Understanding a message: small talk, what a question asks for, and follow-ups read against
the chat's last turn. Imports the corpus and store rooms, never the rank room."""
