"""Account tasks: thin and idempotent."""

from celery import shared_task


@shared_task(name="accounts.disable_dormant_accounts", acks_late=True, time_limit=600, soft_time_limit=540)
def disable_dormant_accounts() -> int:
    """Deactivate accounts unused for longer than the policy allows (AUTH-5); safe to run twice."""
    from accounts.services import accounts_disable_dormant

    return len(accounts_disable_dormant())


@shared_task(name="accounts.purge_expired_tokens", acks_late=True, time_limit=600, soft_time_limit=540)
def purge_expired_tokens() -> int:
    """Delete API tokens past their expiry (authentication refuses them and writes nothing); idempotent."""
    from accounts.services.tokens import tokens_purge_expired

    return tokens_purge_expired()
