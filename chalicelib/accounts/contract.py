"""The accounts' contract: the fields sign-up, login and the profile read, and the account as the
API shows it (core/contract.py)."""
from chalicelib.core.contract import BOOLEAN, ID, TIMESTAMP, Shape, Text, described, labels, nullable, string

EMAIL_MAX = 254
NICKNAME = Text(30)
PASSWORD_MIN, PASSWORD_MAX_BYTES = 8, 72  # bcrypt ignores everything past 72 bytes; we refuse rather than cut
SECRET = Text(1000, strip=False)          # a password as sent, to check (never stripped)
REFRESH = Text(4096)

EMAIL_SCHEMA = string(3, EMAIL_MAX, format='email')
PASSWORD_SCHEMA = string(PASSWORD_MIN, PASSWORD_MAX_BYTES,
                         description='8+ characters and at most 72 bytes in UTF-8 (bcrypt\'s limit)')

labels({'email': '이메일', 'nickname': '닉네임', 'password': '비밀번호', 'password1': '비밀번호',
        'password2': '비밀번호 확인', 'current_password': '현재 비밀번호', 'refresh': 'refresh 토큰'})

USER = Shape('User', {'id': ID, 'pk': described(ID, 'same as id (the original clients read `pk`)'),
                      'email': EMAIL_SCHEMA, 'nickname': NICKNAME.schema(), 'created_at': TIMESTAMP,
                      'last_login': nullable(TIMESTAMP), 'is_admin': BOOLEAN})
PROFILE = Shape('Profile', {name: s for name, s in USER.props.items() if name != 'pk'}, links=True)
