"""The quote request board without a server: how a proposal shows its author."""


def test_short_emails_are_masked_too():
    from chalicelib.board.proposals import mask_email
    assert mask_email('jmkim@gmail.com') == 'jm***@gmail.com'
    assert mask_email('ab@x.com') == 'a***@x.com'
    assert mask_email('a@x.com') == '***@x.com'
