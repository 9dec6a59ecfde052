"""``fedinet admin …``: the operator's commands, thin over :mod:`fedinet.services.admin`.

Each command opens the database itself (the embedded one too), so it works whether or
not ``fedinet serve`` runs; a running server sees the change at once (domain blocks
within a second). Bad input ends with one ``fedinet: error: …`` line and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fedinet.config import Settings
from fedinet.db.types import Connection
from fedinet.errors import ValidationError

__all__ = ["add_admin_commands", "run_admin"]

Action = Callable[[Connection, Settings, argparse.Namespace], Awaitable[None]]


def _age(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


# --------------------------------------------------------------------------- domain blocks


async def _domain_block_add(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.domains import block_domain

    done = await block_domain(conn, settings, args.domain, args.severity, args.reason or "")
    block = done.block
    verb = "suspended" if block.severity == "suspend" else "silenced"
    covers = "" if ":" in block.domain else " and its subdomains"
    line = f"{verb} {block.domain}{covers}"
    if block.reason:
        line += f" (reason: {block.reason})"
    print(line)
    if block.severity == "suspend":
        print(
            f"{done.follows_severed} follows severed, {done.deliveries_cancelled} deliveries "
            f"given up, {done.feed_entries_removed} posts taken out of home feeds"
        )


async def _domain_block_remove(
    conn: Connection, settings: Settings, args: argparse.Namespace
) -> None:
    from fedinet.services.admin.domains import unblock_domain

    await unblock_domain(conn, args.domain)
    print(f"lifted the block on {args.domain.strip().lower()}")


async def _domain_block_list(
    conn: Connection, settings: Settings, args: argparse.Namespace
) -> None:
    from fedinet.services.admin.domains import list_domain_blocks

    blocks = await list_domain_blocks(conn)
    if not blocks:
        print("no domain is blocked")
        return
    rows = [["domain", "severity", "since", "reason"]]
    rows += [[b.domain, b.severity, _when(b.created_at), b.reason] for b in blocks]
    _table(rows)


# --------------------------------------------------------------------------- members


async def _user_suspend(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import suspend_member

    actor = await suspend_member(conn, settings, args.username)
    print(f"suspended @{actor.acct}: logins and tokens refused, profile answers 410 Gone")


async def _user_unsuspend(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import unsuspend_member

    actor = await unsuspend_member(conn, settings, args.username)
    print(f"unsuspended @{actor.acct}: they may log in again")


async def _user_delete(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import delete_member, find_member

    if not args.yes:
        member = await find_member(conn, settings, args.username)
        raise ValidationError(
            f"deleting @{member.actor.acct} cannot be undone; add --yes to confirm",
            field="yes",
        )
    deleted = await delete_member(conn, settings, args.username)
    print(
        f"deleted @{deleted.actor.acct}; the Delete goes to {deleted.servers_notified} "
        f"inbox{'es' if deleted.servers_notified != 1 else ''}"
    )


async def _user_reset_password(
    conn: Connection, settings: Settings, args: argparse.Namespace
) -> None:
    from fedinet.services.admin.members import reset_password

    generated = await reset_password(conn, settings, args.username, args.password)
    name = args.username.strip().lstrip("@")
    print(f"new password set for @{name}; their tokens were revoked")
    if generated is not None:
        print(f"password: {generated}")


async def _user_make_admin(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import set_member_admin

    member = await set_member_admin(conn, settings, args.username, admin=not args.remove)
    role = "an admin" if member.user.is_admin else "no longer an admin"
    print(f"@{member.actor.acct} is {role}")


async def _user_pending(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import list_pending_members

    waiting = await list_pending_members(conn)
    if not waiting:
        print("nobody is waiting for approval")
    for member in waiting:
        print(f"@{member.actor.username}  {member.user.email}  {_when(member.user.created_at)}")


async def _user_approve(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import approve_member

    member = await approve_member(conn, settings, args.username)
    print(f"approved @{member.actor.acct}: they may log in now")


async def _user_reject(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.members import reject_member

    actor = await reject_member(conn, settings, args.username)
    print(f"turned down the sign-up of @{actor.acct}; the account is removed")


async def _invites(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin import invites

    match args.invites_command:
        case "create":
            code, invite = await invites.create_invite(
                conn,
                created_by=None,
                max_uses=args.uses or None,
                days=args.days or None,
                comment=args.comment or "",
            )
            print(f"invitation #{invite.id}: {invites.invite_url(settings, code)}")
        case "revoke":
            await invites.revoke_invite(conn, args.invite_id)
            print(f"revoked invitation #{args.invite_id}")
        case _:
            found = await invites.list_invites(conn)
            if not found:
                print("no invitations")
            for invite in found:
                state = (
                    "revoked"
                    if invite.revoked_at
                    else (f"until {_when(invite.expires_at)}" if invite.expires_at else "open")
                )
                uses = f"{invite.uses}/{invite.max_uses}" if invite.max_uses else str(invite.uses)
                print(f"#{invite.id}  used {uses}  {state}  {invite.comment}".rstrip())


# --------------------------------------------------------------------------- reports


async def _reports_list(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.reports import list_reports

    reports = await list_reports(conn, include_resolved=args.all)
    if not reports:
        print("no open reports" if not args.all else "no reports")
        return
    for report in reports:
        state = "open" if report.resolved_at is None else (report.resolution or "resolved")
        by = f"@{report.reporter_acct}" if report.reporter_acct else "(unknown)"
        suspended = " [suspended]" if report.target_suspended else ""
        print(
            f"#{report.id}  {state}  {_when(report.created_at)}  "
            f"@{report.target_acct}{suspended}  reported by {by}"
        )
        if report.comment:
            print(f"    {' '.join(report.comment.split())}")
        for uri in report.status_uris:
            print(f"    post: {uri}")


async def _reports_resolve(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.reports import resolve_report

    report = await resolve_report(conn, args.report_id, suspend=args.suspend)
    if args.suspend:
        print(f"resolved report #{report.id}: @{report.target_acct} is suspended")
    else:
        print(f"resolved report #{report.id} (dismissed)")


# --------------------------------------------------------------------------- queue


async def _queue_stats(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.queue import queue_stats

    stats = await queue_stats(conn)
    if not stats:
        print("the delivery queue is empty")
        return
    rows = [["server", "pending", "failed", "oldest pending"]]
    rows += [[s.domain, str(s.pending), str(s.failed), _age(s.oldest_pending_age)] for s in stats]
    _table(rows)


async def _queue_retry(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.queue import retry_server

    moved = await retry_server(conn, args.server)
    print(f"{moved} deliver{'y' if moved == 1 else 'ies'} to {args.server.strip()} due now")


async def _cleanup(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.queue import cleanup

    done = await cleanup(conn, settings)
    print(
        f"deleted {done.deliveries} delivery rows (older than "
        f"{settings.delivery_retention_days} days)"
    )
    print(
        f"deleted {done.inbox_items} processed inbox activities (older than "
        f"{settings.inbox_retention_days} days)"
    )
    if settings.remote_content_days:
        print(
            f"deleted {done.remote_statuses} untouched remote posts (older than "
            f"{settings.remote_content_days} days)"
        )
    else:
        print("remote posts are kept (FEDINET_REMOTE_CONTENT_DAYS=0)")
    print(f"deleted {done.oauth_codes} expired authorization codes")


# --------------------------------------------------------------------------- settings


async def _registration_mode(
    conn: Connection, settings: Settings, args: argparse.Namespace
) -> None:
    from fedinet.services.admin.instance import get_registration_mode, set_registration_mode

    if args.mode is None:
        print(f"registration mode: {await get_registration_mode(conn)}")
    else:
        print(f"registration mode set to {await set_registration_mode(conn, args.mode)}")


async def _sending_limits(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin.instance import (
        SENDING_LIMIT_NAMES,
        get_sending_limits,
        set_sending_limits,
    )

    changes = {
        name: getattr(args, name) for name in SENDING_LIMIT_NAMES if getattr(args, name) is not None
    }
    limits = await (set_sending_limits(conn, changes) if changes else get_sending_limits(conn))
    print(f"follow requests a day: {limits['per_day']}")
    print(f"for accounts younger than {limits['new_account_days']} days: {limits['new_per_day']}")


async def _rules(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin import instance

    match args.rules_command:
        case "add":
            rules = await instance.add_rule(conn, args.text, args.hint or "")
            print(f"added rule {len(rules)}")
        case "remove":
            await instance.remove_rule(conn, args.number)
            print(f"removed rule {args.number}")
        case _:
            rules = await instance.get_rules(conn)
            if not rules:
                print("no rules yet")
            for number, rule in enumerate(rules, start=1):
                print(f"{number}. {rule.text}")
                if rule.hint:
                    print(f"   {rule.hint}")


async def _canned(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin import instance

    match args.canned_command:
        case "add":
            added = await instance.add_canned_invitation(conn, args.text)
            print(f"added canned invitation #{added.id}")
        case "remove":
            await instance.remove_canned_invitation(conn, args.invitation_id)
            print(f"removed canned invitation #{args.invitation_id}")
        case _:
            for item in await instance.list_canned_invitations(conn):
                origin = "built-in" if item.builtin else "added"
                print(f"#{item.id}  {origin}  {item.text}")


async def _instance(conn: Connection, settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.services.admin import instance

    if args.instance_command == "set":
        name = args.name.replace("-", "_")
        value = await instance.set_instance_text(conn, name, args.value)
        print(f"{args.name} set" if value else f"{args.name} cleared")
        return
    texts = await instance.get_instance_texts(conn)
    for name, value in texts.items():
        print(f"{name.replace('_', '-')}: {value or '(unset)'}")
    print(f"registration-mode: {await instance.get_registration_mode(conn)}")


# --------------------------------------------------------------------------- the parser


def add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the moderation and operation commands next to ``create-user``."""
    block = commands.add_parser(
        "domain-block", help="suspend or silence another server (add, remove, list)"
    )
    block_commands = block.add_subparsers(dest="block_command", metavar="ACTION", required=True)
    add = block_commands.add_parser(
        "add",
        help="block a domain and its subdomains",
        description="suspend: refuse everything from the domain, stop delivering to it and "
        "sever every follow with it. silence: keep federating, but leave its posts out of "
        "public timelines and its notifications to members who follow the sender.",
    )
    add.add_argument("domain", help="e.g. spam.example (covers its subdomains)")
    add.add_argument(
        "--severity",
        default="suspend",
        help="suspend (default) or silence (Mastodon's 'limit')",
    )
    add.add_argument("--reason", help="why, for the other admins")
    add.set_defaults(admin_action=_domain_block_add)
    remove = block_commands.add_parser("remove", help="lift a domain block")
    remove.add_argument("domain")
    remove.set_defaults(admin_action=_domain_block_remove)
    listing = block_commands.add_parser("list", help="list the domain blocks")
    listing.set_defaults(admin_action=_domain_block_list)

    user = commands.add_parser("user", help="moderate a local member")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    for name, action, text in (
        ("suspend", _user_suspend, "refuse their logins and tokens; their profile answers 410"),
        ("unsuspend", _user_unsuspend, "lift a suspension"),
        ("delete", _user_delete, "delete the account for good and federate the deletion"),
        ("reset-password", _user_reset_password, "set a new password and revoke their tokens"),
        ("make-admin", _user_make_admin, "make the member an admin (--remove: no longer)"),
    ):
        sub = user_commands.add_parser(name, help=text)
        sub.add_argument("username", help="the member's username")
        sub.set_defaults(admin_action=action)
        if name == "delete":
            sub.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
        elif name == "reset-password":
            sub.add_argument(
                "--password", help="the new password; generated and printed if omitted"
            )
        elif name == "make-admin":
            sub.add_argument("--remove", action="store_true", help="take admin rights away")
    pending = user_commands.add_parser("pending", help="list sign-ups waiting for approval")
    pending.set_defaults(admin_action=_user_pending)
    for name, action, text in (
        ("approve", _user_approve, "let a waiting sign-up in"),
        ("reject", _user_reject, "turn a waiting sign-up down (the account is removed)"),
    ):
        sub = user_commands.add_parser(name, help=text)
        sub.add_argument("username")
        sub.set_defaults(admin_action=action)

    invitations = commands.add_parser(
        "invites", help="invitations for registration mode 'invite' (create, list, revoke)"
    )
    invite_commands = invitations.add_subparsers(
        dest="invites_command", metavar="ACTION", required=True
    )
    invite_create = invite_commands.add_parser("create", help="make an invitation link")
    invite_create.add_argument(
        "--uses", type=int, default=1, help="how many may sign up with it (0: no limit)"
    )
    invite_create.add_argument(
        "--days", type=int, default=7, help="how long it works (0: until revoked)"
    )
    invite_create.add_argument("--comment", help="a note for the admins")
    invite_commands.add_parser("list", help="list the invitations")
    invite_revoke = invite_commands.add_parser("revoke", help="revoke an invitation")
    invite_revoke.add_argument("invite_id", type=int, metavar="ID")
    invitations.set_defaults(admin_action=_invites)

    reports = commands.add_parser("reports", help="list and resolve reports")
    report_commands = reports.add_subparsers(
        dest="reports_command", metavar="ACTION", required=True
    )
    report_list = report_commands.add_parser("list", help="open reports, oldest first")
    report_list.add_argument("--all", action="store_true", help="resolved ones too")
    report_list.set_defaults(admin_action=_reports_list)
    resolve = report_commands.add_parser("resolve", help="resolve a report")
    resolve.add_argument("report_id", type=int, metavar="ID", help="the report's number")
    resolve.add_argument(
        "--suspend", action="store_true", help="suspend the reported account as well"
    )
    resolve.set_defaults(admin_action=_reports_resolve)

    queue = commands.add_parser("queue", help="the delivery queue")
    queue_commands = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    stats = queue_commands.add_parser(
        "stats", help="pending and failed deliveries per server, with the oldest's age"
    )
    stats.set_defaults(admin_action=_queue_stats)
    retry = queue_commands.add_parser(
        "retry", help="try every pending and failed delivery to a server now"
    )
    retry.add_argument("server", help="the server's host[:port], e.g. social.example")
    retry.set_defaults(admin_action=_queue_retry)

    cleanup = commands.add_parser(
        "cleanup",
        help="delete old delivery rows, processed inbox activities and untouched remote posts",
        description="Retention comes from FEDINET_DELIVERY_RETENTION_DAYS, "
        "FEDINET_INBOX_RETENTION_DAYS and FEDINET_REMOTE_CONTENT_DAYS.",
    )
    cleanup.set_defaults(admin_action=_cleanup)

    mode = commands.add_parser(
        "registration-mode", help="show or set who may sign up: open, approved, invite, closed"
    )
    mode.add_argument("mode", nargs="?", help="open, approved, invite or closed")
    mode.set_defaults(admin_action=_registration_mode)

    limits = commands.add_parser(
        "sending-limits", help="show or set how many follow requests a member may send a day"
    )
    limits.add_argument("--per-day", dest="per_day", type=int, metavar="N")
    limits.add_argument("--new-per-day", dest="new_per_day", type=int, metavar="N")
    limits.add_argument("--new-account-days", dest="new_account_days", type=int, metavar="DAYS")
    limits.set_defaults(admin_action=_sending_limits)

    rules = commands.add_parser("rules", help="the instance's rules (list, add, remove)")
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    rule_commands.add_parser("list", help="list the rules")
    rule_add = rule_commands.add_parser("add", help="add a rule at the end")
    rule_add.add_argument("text")
    rule_add.add_argument("--hint", help="a longer explanation")
    rule_remove = rule_commands.add_parser("remove", help="remove a rule by its number")
    rule_remove.add_argument("number", type=int, metavar="N")
    rules.set_defaults(admin_action=_rules)

    canned = commands.add_parser(
        "canned-invitations",
        help="the stock invitations the generic-note rule refuses (list, add, remove)",
    )
    canned_commands = canned.add_subparsers(dest="canned_command", metavar="ACTION", required=True)
    canned_commands.add_parser("list", help="list them")
    canned_add = canned_commands.add_parser("add", help="add one")
    canned_add.add_argument("text")
    canned_remove = canned_commands.add_parser("remove", help="remove one by its number")
    canned_remove.add_argument("invitation_id", type=int, metavar="ID")
    canned.set_defaults(admin_action=_canned)

    texts = commands.add_parser(
        "instance", help="the instance's title, descriptions and contact (show, set)"
    )
    text_commands = texts.add_subparsers(dest="instance_command", metavar="ACTION", required=True)
    text_commands.add_parser("show", help="show them")
    text_set = text_commands.add_parser("set", help="set one ('' clears it)")
    text_set.add_argument(
        "name", choices=("title", "short-description", "description", "contact-email")
    )
    text_set.add_argument("value")
    texts.set_defaults(admin_action=_instance)


async def run_admin(settings: Settings, args: argparse.Namespace) -> None:
    """Run the admin command ``args`` chose, on a connection of its own."""
    from fedinet.runtime import open_runtime

    action: Action = args.admin_action
    async with open_runtime(settings, pool_max=2) as runtime, runtime.pool.acquire() as conn:
        await action(conn, settings, args)
