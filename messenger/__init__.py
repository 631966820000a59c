"""The Messenger edge: the cards a customer sees (Canvas Kit) and the signed payment links."""
