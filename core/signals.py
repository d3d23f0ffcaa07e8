"""What the domain announces about writes that send no model signal.

``bulk_create``, ``QuerySet.update`` and treebeard's moves write rows without Django's
``post_save``/``post_delete``. A service that writes that way sends one of these signals (in the
same transaction), so read models above the domain (the dashboard's summary tables) stay current
without the domain knowing them: the dashboard subscribes, the domain never imports it.
"""

from django.dispatch import Signal

# Rows of ``sender`` (a model class) in these organizations were created, changed or deleted in
# bulk. Keyword argument: ``organization_ids`` (a set of ids).
rows_changed = Signal()

# The organization tree changed shape (an organization moved under another parent): every
# ancestor of the moved subtree changed. No keyword arguments; ``sender`` is the model class.
tree_changed = Signal()
