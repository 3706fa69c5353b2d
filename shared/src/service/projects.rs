//! Projects: creating one (the caller becomes its owner), reading it, listing, re-roling and
//! removing its members; a caller's own projects.

use super::{forbidden_to_manage, retrying, AppError, Invitations};
use crate::domain::{
    Actor, Caller, Event, MemberChange, MemberChangeError, Membership, NewProject, Page, PageRequest, Project,
    ProjectId, QuotaScope, Role, UserId,
};
use crate::store::MemberUpdate;
use time::Duration;

impl Invitations {
    #[tracing::instrument(skip_all)]
    pub async fn create_project(&self, caller: &Caller, new: NewProject) -> Result<Project, AppError> {
        let now = self.clock.now();
        let project = Project {
            id: ProjectId::new(now),
            name: new.name,
            owner: caller.user_id.clone(),
            created_at: now,
            allowed_email_domains: new.allowed_email_domains,
        };
        let owner = Membership {
            project_id: project.id.clone(),
            user_id: caller.user_id.clone(),
            // Member lists show only addresses the identity provider verified.
            email: caller.email.clone().filter(|_| caller.email_verified),
            role: Role::Owner,
            joined_at: now,
            slack: None,
        };
        let actor = Actor::User(caller.user_id.clone());
        let events = [Event::project_created(&project, &actor), Event::member_added(&owner, &actor, now)];
        // A project holds its creator's slot for good.
        let quota = [(QuotaScope::UserProjects(caller.user_id.clone()), now + Duration::days(365 * 100))];
        let (project_ref, owner_ref, events_ref) = (&project, &owner, &events);
        self.counting(&quota, project.id.as_str(), |claims| async move {
            Ok(self.store.create_project(project_ref, owner_ref, events_ref, &claims).await?)
        })
        .await?;
        tracing::info!(project_id = %project.id, "project created");
        Ok(project)
    }

    /// The project as its member sees it, with the member's role.
    #[tracing::instrument(skip_all)]
    pub async fn project(&self, caller: &Caller, project_id: &ProjectId) -> Result<(Project, Role), AppError> {
        match self.store.project_and_membership(project_id, &caller.user_id).await? {
            (Some(project), Some(member)) => Ok((project, member.role)),
            _ => Err(AppError::NotFound),
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn members(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<Membership>, AppError> {
        self.project(caller, project_id).await?;
        Ok(self.store.members(project_id, page).await?)
    }

    /// Gives a member a new role or removes them; a caller removing themselves leaves. Managers
    /// act on lower roles, owners on anyone, and the project keeps at least one owner. Returns
    /// the membership as it now is (`None` once removed).
    #[tracing::instrument(skip_all)]
    pub async fn change_member(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        user_id: &UserId,
        change: MemberChange,
    ) -> Result<Option<Membership>, AppError> {
        retrying(|| async {
            let (actor, target) = self.actor_and_member(caller, project_id, user_id).await?;
            if !actor.role.can_manage_invitations() && actor.user_id != *user_id {
                return Err(forbidden_to_manage().into());
            }
            let (actor, target) = (&actor, &target.ok_or(AppError::NotFound)?);
            target.check_change(actor, change).map_err(|err| match err {
                MemberChangeError::NotManager => forbidden_to_manage(),
                other => AppError::forbidden("role_above_own", other.to_string()),
            })?;
            let to = target.changed(change);
            if to.as_ref() == Some(target) {
                return Ok(to);
            }
            let remaining_owner = match target.loses_owner(change) {
                true => Some(self.store.another_owner(project_id, user_id).await?.ok_or_else(|| {
                    AppError::conflict("last_owner", "A project keeps at least one owner: make another owner first.")
                })?),
                false => None,
            };
            let event = Event::member_changed(target, to.as_ref(), &Actor::User(caller.user_id.clone()), self.now());
            let update = MemberUpdate {
                from: target,
                to: to.as_ref(),
                actor,
                remaining_owner: remaining_owner.as_ref(),
                event: Some(&event),
            };
            self.store.change_member(update).await?;
            tracing::info!(member = %user_id, removed = to.is_none(), "member changed");
            Ok(to)
        })
        .await
    }

    /// The caller's membership of the project (`NotFound` without one) and `user_id`'s, read
    /// together (one read when they are the same user).
    pub(super) async fn actor_and_member(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        user_id: &UserId,
    ) -> Result<(Membership, Option<Membership>), AppError> {
        let mut ids = vec![caller.user_id.clone()];
        if *user_id != caller.user_id {
            ids.push(user_id.clone());
        }
        let members = self.store.members_by_id(project_id, &ids).await?;
        let find = |id: &UserId| members.iter().find(|m| m.user_id == *id).cloned();
        let actor = find(&caller.user_id).ok_or(AppError::NotFound)?;
        Ok((actor, find(user_id)))
    }

    /// The caller's projects, with their role in each, by project id.
    #[tracing::instrument(skip_all)]
    pub async fn my_projects(&self, caller: &Caller, page: &PageRequest) -> Result<Page<(Project, Role)>, AppError> {
        let page = self.store.projects_of(&caller.user_id, page).await?;
        Ok(Page { items: page.items.into_iter().map(|(project, m)| (project, m.role)).collect(), next: page.next })
    }
}
