"""Staff accounts: agents and supervisors, and how they sign in.

Where each rule lives: adding, listing, disabling and resetting accounts
(the operator's, audited; a reset's reason in a purgeable row) ``agents``;
the sign-in attempt, its waits and lockout (the policy's ``signin_lock_after``)
and the one answer every refusal gets ``signin`` (on PostgreSQL through
revision 0014's SECURITY DEFINER functions, so a desk never holds a hash).
"""
