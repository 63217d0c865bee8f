"""How many times each table behind a cached list page has changed (backoffice.api.list_cache)."""

from django.db import models


class ListVersion(models.Model):
    """A change counter of one table, split in shards so concurrent writers rarely wait for
    each other; the table's version is the sum of its shards. Written only by database
    triggers, in the transaction of the change."""

    table_name = models.CharField(max_length=63)
    shard = models.PositiveSmallIntegerField()
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "list version"
        verbose_name_plural = "list versions"
        constraints = [
            models.UniqueConstraint(fields=["table_name", "shard"], name="api_listversion_shard"),
        ]

    def __str__(self) -> str:
        return f"{self.table_name} #{self.shard}: {self.version}"
