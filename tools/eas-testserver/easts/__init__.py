# SPDX-License-Identifier: Apache-2.0
"""eas-testserver: a scriptable, fault-injecting Exchange ActiveSync server for easd tests.

Written independently of the C core (own WBXML codec and code page tables) so that a bug in
the core's codec cannot hide itself.
"""
__version__ = "1.0"
