"""Re-encrypt members' ID numbers and phones with the current key (after a key rotation).

Put the new key first in FIELD_ENCRYPTION_KEY (``v2:<new>,v1:<old>``), run this command, then
drop the old key. ``--rehash`` also recomputes the blind indexes (after changing FIELD_HASH_KEY).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from members import crypto
from members.models import ID_NUMBER_FIELD, PHONE_FIELD, Member

CHUNK = 2000


class Command(BaseCommand):
    help = "用当前密钥重新加密党员的公民身份号码和联系电话（密钥轮换后运行）"

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="同时重算盲索引（更换 FIELD_HASH_KEY 后）")

    def handle(self, *args, rehash, **options):
        current = crypto.keyring().current_version
        changed = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                chunk = list(
                    Member.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", "id_number_cipher", "phone_cipher", "id_number_hash", "phone_hash")[:CHUNK]
                )
                if not chunk:
                    break
                dirty = []
                for member in chunk:
                    stale = {crypto.key_version(member.id_number_cipher), crypto.key_version(member.phone_cipher)}
                    stale.discard("")
                    if rehash or stale - {current}:
                        number = crypto.decrypt(member.id_number_cipher, field=ID_NUMBER_FIELD)
                        phone = crypto.decrypt(member.phone_cipher, field=PHONE_FIELD)
                        member.id_number_cipher = crypto.encrypt(number, field=ID_NUMBER_FIELD)
                        member.phone_cipher = crypto.encrypt(phone, field=PHONE_FIELD)
                        member.id_number_hash = crypto.blind_index(number, field=ID_NUMBER_FIELD)
                        member.phone_hash = crypto.blind_index(phone, field=PHONE_FIELD)
                        dirty.append(member)
                Member.objects.bulk_update(
                    dirty, ["id_number_cipher", "phone_cipher", "id_number_hash", "phone_hash"], batch_size=CHUNK
                )
                changed += len(dirty)
                last_pk = chunk[-1].pk
        self.stdout.write(f"已用密钥 {current} 重新加密 {changed} 名党员的证件号码和电话")
