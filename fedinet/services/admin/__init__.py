"""What an instance's admins do, shared by ``fedinet admin …`` and the admin pages.

* :mod:`.domains`: domain blocks (suspend, silence) and their federation effects;
* :mod:`.members`: suspend, unsuspend, delete, reset a password, make admin;
* :mod:`.reports`: list and resolve reports;
* :mod:`.queue`: the delivery queue per server, retries, the periodic clean-up;
* :mod:`.instance`: registration mode, sending limits, rules, texts, canned invitations.
"""
