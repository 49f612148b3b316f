"""What a use case refuses, said for the user: every capability's errors are DomainErrors, so views map
them the same way (the message on its field with 422, or as the page's message with 409)."""


class DomainError(Exception):
    """``message`` is for the user; ``field`` names the form field it belongs to, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field
