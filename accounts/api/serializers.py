"""The signed-in user's own profile and API token."""

from rest_framework import serializers

from accounts.models import User
from config.api import refuse_read_only_changes, refuse_unknown_fields


class ProfileSerializer(serializers.ModelSerializer):
    """Name, e-mail and language are the user's to change; role and vendor are the administrator's."""

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "language", "role", "vendor"]
        read_only_fields = ["id", "username", "role", "vendor"]

    def to_internal_value(self, data):
        refuse_unknown_fields(data, self.fields)  # a misspelt "langauge" is named, not dropped
        refuse_read_only_changes(data, self)  # so is a role or vendor that only an administrator changes
        return super().to_internal_value(data)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text='Send as the header "Authorization: Token <token>".')
    created = serializers.DateTimeField(read_only=True)


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
