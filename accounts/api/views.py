"""The signed-in user's profile (GET/PATCH /api/v1/me/) and API token.

A machine gets its token in one of two ways: the user creates it while signed in (POST
/api/v1/me/token/, session or token authentication), or exchanges a username and password for it
(POST /api/v1/auth/token/, throttled against password guessing). DELETE /api/v1/me/token/ revokes it.
The web page "API token" (accounts.views) does the same through the same services.
"""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.serializers import CredentialsSerializer, ProfileSerializer, TokenSerializer
from accounts.services import create_api_token, revoke_api_token
from config.api import refuse_unknown_fields


def _token_response(token: Token, code: int = status.HTTP_201_CREATED) -> Response:
    # Through the serializer: `created` in the app's time zone, as every other timestamp of the API.
    return Response(TokenSerializer({"token": token.key, "created": token.created}).data, status=code)


class ProfileView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ProfileSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class MyTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: TokenSerializer}, summary="Create (or replace) my API token")
    def post(self, request):
        return _token_response(create_api_token(user=request.user))

    @extend_schema(request=None, responses={204: None}, summary="Revoke my API token")
    def delete(self, request):
        revoke_api_token(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ObtainTokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request) -> str:
        # Wrong credentials are a 401 (DRF answers 403 for views without authentication classes).
        return 'Token realm="api"'

    @extend_schema(
        request=CredentialsSerializer,
        responses={201: TokenSerializer},
        summary="Exchange a username and password for a new API token",
    )
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        refuse_unknown_fields(request.data, credentials.fields)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request._request, **credentials.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Wrong username or password, or the account is inactive."))
        return _token_response(create_api_token(user=user))
