"""Canvas Kit, shared by the inbox and the Messenger edges: typed components, request parsing
and signature verification, and the labels both surfaces show."""
