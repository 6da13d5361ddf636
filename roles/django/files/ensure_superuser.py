# Run by `manage.py shell -c`: create the superuser read from stdin (JSON) unless that user
# exists; an existing user is never changed. Works with custom user models.
import json
import sys

from django.contrib.auth import get_user_model

wanted = json.load(sys.stdin)
User = get_user_model()
manager = User._default_manager
if manager.filter(**{User.USERNAME_FIELD: wanted["username"]}).exists():
    print("django-role: superuser exists")
else:
    fields = {User.USERNAME_FIELD: wanted["username"]}
    email_field = User.get_email_field_name()
    if wanted["email"] and email_field != User.USERNAME_FIELD:
        fields[email_field] = wanted["email"]
    manager.create_superuser(password=wanted["password"], **fields)
    print("django-role: superuser created")
