"""Downloads of the licensed software: releases (installers and a changelog) uploaded by staff,
offered to customers while a licence of theirs is active, through signed short-lived links,
with a "new version available" email that each customer can turn off."""
