//! Projects: creating one (the caller becomes its owner), reading it, listing its members.

use super::{AppError, Invitations};
use crate::domain::{
    Actor, Caller, Event, Membership, NewProject, Page, PageRequest, Project, ProjectId, QuotaScope, Role,
};
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
}
