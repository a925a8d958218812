"""Registers governance's endpoints on the project's one router."""

from config.api_router import router
from governance.api import views

router.register("committees", views.CommitteeViewSet, basename="committee")
router.register("meetings", views.MeetingViewSet, basename="meeting")
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("action-items", views.ActionItemViewSet, basename="actionitem")
