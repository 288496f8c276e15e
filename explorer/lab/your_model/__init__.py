"""Your model: every view of the app on a network and data the user wrote (see ``loader`` for the contract)."""
